#!/bin/sh
# A plugin answering CRITICAL with garbage for perfdata (and binary bytes).
printf 'CRITICAL - \001\377garbage | =1 x=abc ok=5 \047broken=1\n'
exit 2
