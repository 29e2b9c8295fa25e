# A run cut after 4 records (cli/run_resume.hpp), resumed under the other engine: the second part
# writes what comes after the cut (the whole is run_stats's output).
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --engine jit --snapshot-after 4 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --engine interp --resume $TMP/snap --stats --no-timing
