# A snapshot of a run of the artifact resumes under the artifact.
cep compile run/rules.cep -o $TMP/rules.cepo
cep run $TMP/rules.cepo --input run/events.jsonl --input run/logins.jsonl:Login --snapshot-after 4 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run $TMP/rules.cepo --input run/events.jsonl --input run/logins.jsonl:Login --resume $TMP/snap
