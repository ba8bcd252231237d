#!/bin/sh
# Integration: the survey's main job through the real daemon and the
# emulator: spool -> invitation -> replies -> follow-up/thanks -> export;
# opt-out in fi/sv/en; comment then score; two invalids -> review;
# expiry and late text (restart "a day later"); cancel before send;
# duplicate visit_id; bad spool lines; no phone number or reply text in
# the info-level log.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

t=$(mktmp)
start_emu "$t" --reg-delay-ms 50
write_conf "$t/c.conf" "$t" 'modems = ( { name = "m1"; device = "'"$t"'/m1"; } );
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };
survey = { answer_hours = 24; late_days = 7; };'
"$SMSGWD" -d -f "$t/c.conf" 2> "$t/info.log" &
gw_pid=$!
_pids="$_pids $gw_pid"
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 5 || fail "not ready"
ctl() { "$SMSGWCTL" -f "$t/c.conf" "$@"; }
db=$t/state/smsgwd.db
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# texts_to PHONE: the texts sent to PHONE, one per line.
texts_to() {
	python3 - "$t/sent.jsonl" "$1" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["to"] == sys.argv[2]:
        print(d["text"].replace("\n", " "))
PYEOF
}
ntexts() { texts_to "$1" | wc -l | tr -d ' '; }
reply() { emu "$t" deliver m1 "$1" "$2" >/dev/null; }
drop() {	# drop NAME: spool file from stdin, maildir style
	cat > "$t/spool/tmp/$1"
	mv "$t/spool/tmp/$1" "$t/spool/new/$1"
}

drop visits-1.jsonl <<EOV
{"visit_id":"V-1","unit":"HAMMAS-JKL","phone":"+358401000001","ended_at":"$now","lang":"fi","age":34}
{"visit_id":"V-2","unit":"HAMMAS-JKL","phone":"0401000002","ended_at":"$now","lang":"fi"}
{"visit_id":"V-3","unit":"NEURO","phone":"+358401000003","ended_at":"$now","lang":"sv"}
{"visit_id":"V-4","unit":"NEURO","phone":"+358401000004","ended_at":"$now","lang":"en"}
{"visit_id":"V-5","unit":"NEURO","phone":"+358401000005","ended_at":"$now","lang":"de"}
{"visit_id":"V-6","unit":"NEURO","phone":"+358401000006","ended_at":"$now"}
{"visit_id":"V-7","unit":"NEURO","phone":"+358401000007","ended_at":"$now"}
{"visit_id":"V-8","unit":"NEURO","phone":"+358401000008","ended_at":"$now","age":15}
{"visit_id":"V-9","unit":"NEURO","phone":"+358401000009","ended_at":"$now","flags":["turvakielto"]}
{"visit_id":"V-10","unit":"NEURO","phone":"+358401000010","ended_at":"$now","lang":"fi"}
this is not json
{"visit_id":"V-11","unit":"NEURO","ended_at":"$now"}
EOV
wait_for "[ -f $t/spool/done/visits-1.jsonl ]" 5 || fail "spool file not taken"
expect_eq "$(cat "$t/spool/rejected/visits-1.jsonl.err" | cut -d: -f1 | tr '\n' ' ')" "11 12 " "bad lines reported with 1-based numbers"
wait_for "[ \$(count_lines $t/sent.jsonl) -ge 8 ]" 10 || fail "invitations not sent"
sleep 0.5
expect_eq "$(count_lines "$t/sent.jsonl")" 8 "8 invitations (underage and turvakielto excluded)"
expect_eq "$(ntexts +358401000008)" 0 "no invitation under min_age"
expect_eq "$(ntexts +358401000009)" 0 "no invitation with turvakielto"
inv=$(texts_to +358401000001)
expect_match "$inv" '^HYVAKS: .*0-10.*maksuton.*LOPETA' "fi invitation: sender, scale, free, stop word"
expect_match "$(texts_to +358401000002)" '^HYVAKS: ' "national number normalised and invited"
expect_match "$(texts_to +358401000003)" 'STOPP' "sv invitation"
expect_match "$(texts_to +358401000004)" 'STOP' "en invitation"
expect_match "$(texts_to +358401000005)" 'STOP' "unknown language gets en"
case "$inv" in *HAMMAS*|*NEURO*) fail "invitation names the unit" ;; *) pass ;; esac

# 9 -> promoter follow-up -> free text -> thanks -> record.
reply +358401000001 "9"
wait_for "[ \$(ntexts +358401000001) -eq 2 ]" 5 || fail "no follow-up after 9"
reply +358401000001 "Hammaslääkäri oli ystävällinen, soita 0401234567 tai maili@example.com"
wait_for "[ \$(ntexts +358401000001) -eq 3 ]" 5 || fail "no thanks after follow-up"
expect_match "$(texts_to +358401000001 | tail -1)" '^HYVAKS: Kiitos' "thanks"

# Opt-outs in three languages: suppressed, one confirmation, closed.
reply +358401000002 "LOPETA"
reply +358401000003 "STOPP"
reply +358401000004 "Please stop texting me"
wait_for "[ \$(ntexts +358401000004) -eq 2 ] && [ \$(ntexts +358401000003) -eq 2 ] && [ \$(ntexts +358401000002) -eq 2 ]" 5 ||
	fail "opt-out confirmations missing"
for p in +358401000002 +358401000003 +358401000004; do
	expect_eq "$(ctl optout check $p)" "suppressed" "opt-out $p suppressed"
done

# Comment first, then a score (one re-prompt).
reply +358401000005 "The waiting room was cold"
wait_for "[ \$(ntexts +358401000005) -eq 2 ]" 5 || fail "no re-prompt after a comment"
reply +358401000005 "7"
wait_for "[ \$(ntexts +358401000005) -eq 3 ]" 5 || fail "no reply after the score"

# Two invalid replies: a re-prompt with a hint, then review.
reply +358401000006 "8,5"
wait_for "[ \$(ntexts +358401000006) -eq 2 ]" 5 || fail "no re-prompt after invalid"
reply +358401000006 "5-6"
sleep 1
expect_eq "$(ntexts +358401000006)" 2 "nothing sent after the second invalid"
out=$(ctl --json review)
expect_match "$out" '"reason":"invalid".*"text":"5-6"' "second invalid in review"

# An orphan.
reply +358409999999 "kuka te olette"
wait_for "ctl --json review | grep -q 'kuka te olette'" 5 || fail "orphan not in review"

# Export: records of closed conversations, redacted, no phone numbers.
wait_for "[ \$(ctl --json export | wc -l) -ge 5 ]" 5 || fail "records missing"
exp=$(ctl --json export)
r1=$(printf '%s\n' "$exp" | grep '"visit_id":"V-1"')
expect_match "$r1" '"status":"complete","kind":"score","score":9' "V-1 record"
expect_match "$r1" '"followup":"Hammaslääkäri oli ystävällinen, soita \[phone\] tai \[email\]"' "followup redacted"
expect_match "$(printf '%s\n' "$exp" | grep '"visit_id":"V-5"')" '"kind":"score_comment","score":7,"comment":"The waiting room was cold' "comment then score"
expect_match "$(printf '%s\n' "$exp" | grep '"visit_id":"V-3"')" '"status":"optout"' "sv opt-out record"
# (response ids are random hex: leave them out of the scan)
if printf '%s\n' "$exp" | sed 's/"response_id":"[0-9a-z]*"//' |
    grep -Eq '358|040[0-9]'; then
	fail "export holds a phone number"
else
	pass
fi

# Duplicate visit_id and cancel before send.
drop visits-2.jsonl <<EOV
{"visit_id":"V-1","unit":"HAMMAS-JKL","phone":"+358401000001","ended_at":"$now"}
{"visit_id":"V-20","cancel":true}
EOV
wait_for "[ -f $t/spool/done/visits-2.jsonl ]" 5 || fail "second file not taken"
sleep 0.5
expect_eq "$(ntexts +358401000001)" 3 "duplicate visit_id not invited again"
expect_eq "$(sql "$db" "select value from counters where name='visits_duplicate'")" 1 "duplicate counted"
drop visits-3.jsonl <<EOV
{"visit_id":"V-20","unit":"NEURO","phone":"+358401000020","ended_at":"$now"}
EOV
wait_for "[ -f $t/spool/done/visits-3.jsonl ]" 5 || fail "third file not taken"
sleep 0.5
expect_eq "$(ntexts +358401000020)" 0 "cancelled visit never invited"

# The HTML report from the live daemon.
ctl report --html "$t/report.html" >/dev/null
expect_eq "$?" 0 "report exit"
expect_match "$(cat "$t/report.html")" 'id="nps-chart"' "report has the NPS chart"
case "$(cat "$t/report.html")" in *358401*) fail "report holds a phone number" ;; *) pass ;; esac
ctl report --html "$t/r2.html" --since yesterday >/dev/null 2>&1
expect_eq "$?" 1 "report refuses a bad date"

# Units: counters and NPS.
out=$(ctl --json units)
expect_match "$out" '"unit":"HAMMAS-JKL".*"invited":2' "units: HAMMAS-JKL invited"

# Expiry and late text: restart "25 hours later".
kill -TERM $gw_pid; wait $gw_pid
SMSGWD_CLOCK_OFFSET_S=90000 "$SMSGWD" -d -f "$t/c.conf" 2>> "$t/info.log" &
gw_pid=$!
_pids="$_pids $gw_pid"
wait_for "[ \"\$(ctl --json export 2>/dev/null | grep -c '\"status\":\"expired\"')\" -ge 2 ]" 10 ||
	fail "unanswered conversations not expired"
expect_match "$(ctl --json export | grep '"visit_id":"V-7"')" '"status":"expired","kind":null,"score":null' "V-7 expired"
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 5 || fail "not ready after restart"
n=$(count_lines "$t/sent.jsonl")
reply +358401000001 "Vielä: parkkipaikka oli täynnä"
wait_for "ctl --json export | grep '\"visit_id\":\"V-1\"' | grep -q '\"revision\":2'" 5 ||
	fail "late text did not make revision 2"
expect_match "$(ctl --json export | grep '"visit_id":"V-1"')" '"late":\["Vielä: parkkipaikka oli täynnä"\]' "late text attached"
sleep 0.5
expect_eq "$(count_lines "$t/sent.jsonl")" "$n" "nothing sent back for a late text"

# Privacy: no phone number or reply text in the info-level log.
if grep -E '358|0401|kiitos|ystävällinen|parkkipaikka|8,5' "$t/info.log"; then
	fail "personal data in the info log"
else
	pass
fi
kill -TERM $gw_pid; wait $gw_pid

# Pacing: schedule.pace_ms spreads a backlog of invitations on a modem,
# while a reply's follow-up is not held back.
tp=$(mktmp)
start_emu "$tp" --reg-delay-ms 50
write_conf "$tp/c.conf" "$tp" 'modems = ( { name = "m1"; device = "'"$tp"'/m1"; } );
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; pace_ms = 400; };'
"$SMSGWD" -d -f "$tp/c.conf" 2> "$tp/log" &
gwp=$!
_pids="$_pids $gwp"
wait_for "[ \"\$(modem_state $tp/c.conf m1)\" = ready ]" 5 || fail "not ready (pacing)"
: > "$tp/spool/tmp/p.jsonl"
for i in 1 2 3 4 5; do
	echo "{\"visit_id\":\"P-$i\",\"unit\":\"U\",\"phone\":\"+35840300000$i\",\"ended_at\":\"$now\"}" >> "$tp/spool/tmp/p.jsonl"
done
mv "$tp/spool/tmp/p.jsonl" "$tp/spool/new/p.jsonl"
wait_for "[ \$(count_lines $tp/sent.jsonl) -ge 1 ]" 5 || fail "no paced invitation"
emu "$tp" deliver m1 +358403000001 "9" >/dev/null
wait_for "[ \$(count_lines $tp/sent.jsonl) -ge 6 ]" 10 || fail "paced invitations missing"
out=$(python3 - "$tp/sent.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
inv = [r["ts_ms"] for r in rows if "0-10" in r["text"] and "Kuinka" in r["text"]]
gaps = [b - a for a, b in zip(inv, inv[1:])]
fu = [r for r in rows if r["to"] == "+358403000001" and "Kuinka" not in r["text"]]
print("invitations", len(inv), "mingap_ok", min(gaps) >= 350,
      "followup_before_last", bool(fu) and fu[0]["ts_ms"] < inv[-1])
PYEOF
)
expect_eq "$out" "invitations 5 mingap_ok True followup_before_last True" "invitations paced, follow-up not held"
kill -TERM $gwp; wait $gwp

# Retention: restart 100 days later (retention_days = 90).
SMSGWD_CLOCK_OFFSET_S=8640000 "$SMSGWD" -d -f "$t/c.conf" 2>> "$t/info.log" &
gw_pid=$!
_pids="$_pids $gw_pid"
wait_for "[ \$(grep -c 'retention (90 days)' '$t/info.log') -ge 3 ]" 5 || fail "retention job did not run"
expect_eq "$(sql "$db" "select count(*) from conversations")" 0 "old conversations deleted"
expect_eq "$(sql "$db" "select count(*) from sms_in")" 0 "old inbound messages deleted"
expect_eq "$(sql "$db" "select count(*) from sms_out where phone is not null or text is not null")" 0 "old outbound texts and numbers scrubbed"
expect_eq "$(ls "$t/spool/done" | wc -l | tr -d ' ')" 0 "old spool files deleted"
expect_eq "$(sql "$db" "select count(*) from suppression")" 3 "suppression list kept"
expect_eq "$(sql "$db" "select count(*) from visits where phone is not null")" 0 "no clear phone numbers left"
kill -TERM $gw_pid; wait $gw_pid
finish
