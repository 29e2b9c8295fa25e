# Two artifacts given at start whose Payment types differ (amount float, then int).
cep compile run/rules.cep -o $TMP/a.cepo
cep compile serve/other_payment.cep -o $TMP/b.cepo
cep serve $TMP/a.cepo $TMP/b.cepo -i run/events.jsonl -o $TMP/out.jsonl --admin 127.0.0.1:0
