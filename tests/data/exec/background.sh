#!/bin/sh
# A plugin that leaves a background process holding its stdout open, and exits at once.
/bin/sleep 1000 &
echo "OK - left a job behind | pgid=$$ job=$!"
exit 0
