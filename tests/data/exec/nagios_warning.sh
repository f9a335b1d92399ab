#!/bin/sh
# A Nagios plugin answering WARNING (exit 1), with perfdata on the first and a later line.
echo "WARNING - /data is 91% full | '/data used'=91%;80;90;0;100 latency=12.5ms;100;200"
echo "/data: 91% of 100 GiB"
echo "/var: 40% of 10 GiB | 'var free'=6GB;;;0;10 requests=1234c"
exit 1
