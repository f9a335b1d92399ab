#!/bin/sh
# Not executable (mode 644): the exec probe refuses it at start.
echo "OK"
