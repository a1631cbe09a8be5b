#!/usr/bin/env bash
# Renders the built-in phone prompts once with espeak-ng and sox into
# crates/telephony/prompts/NAME.wav: 8 kHz mono µ-law WAV, leading and trailing silence
# trimmed. The files are committed and embedded in the binary (media/prompts.rs lists the
# same names); run this again only when a text changes, then commit the files.
#
#   apt-get install espeak-ng sox && scripts/render-prompts.sh

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../crates/telephony/prompts"

for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "render-prompts: $tool is not installed" >&2; exit 2; }
done

PROMPTS=(
  "welcome|Welcome to Barnstorm phone banking."
  "enter-pin|Please enter your PIN, then press hash."
  "pin-wrong|That PIN was not recognised."
  "next-contact|Your next contact is"
  "press-hash-to-call|Press hash to call, or star to skip."
  "connecting|Connecting."
  "contact-hung-up|The call has ended."
  "outcome-menu-intro|Please record the outcome."
  "press|Press"
  "for|for"
  "star|star"
  "hash|hash"
  "saved|Saved."
  "not-valid|That key is not on the menu."
  "no-contacts|There is nobody left to call right now. Goodbye."
  "call-failed|The call could not be connected."
  "goodbye|Goodbye."
  "question|Question."
  "busy|The line is busy."
  "no-answer|There was no answer."
  "wrong-number|That number is not in service."
)
for digit in 0 1 2 3 4 5 6 7 8 9; do PROMPTS+=("digit-$digit|$digit"); done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "${PROMPTS[@]}"; do
  name=${entry%%|*} text=${entry#*|}
  espeak-ng -v en-gb -s 165 -w "$work/$name.wav" "$text"
  # Trim silence at both ends (reverse, trim the start, reverse back), then 8 kHz µ-law.
  sox "$work/$name.wav" -r 8000 -c 1 -e u-law -b 8 "$name.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
done
du -cb ./*.wav | tail -n 1 | awk '{ printf "render-prompts: %d files, %d bytes\n", '"${#PROMPTS[@]}"', $1 }'
