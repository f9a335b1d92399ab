#!/bin/sh
# A plugin that writes without end.
exec /usr/bin/yes "OK - this line repeats for ever | x=1"
