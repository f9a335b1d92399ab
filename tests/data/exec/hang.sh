#!/bin/sh
# A plugin that never answers: it writes its pid (its process group) to $PID_FILE, starts
# a child that sleeps and waits for it.
echo $$ > "$PID_FILE"
/bin/sleep 1000
echo "OK - never printed"
