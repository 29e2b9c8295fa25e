# The first part: its matches on stdout, one stderr line naming the snapshot, exit 0.
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --engine interp --snapshot-after 4 --snapshot-file $TMP/snap
