#!/bin/sh
# A command failing: a message on stderr, exit code 2.
echo "shop_ok 1"
echo "cannot reach the database at db1:5432" >&2
echo "second line of the error" >&2
exit 2
