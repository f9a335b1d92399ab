#!/bin/sh
# A command printing something that is not Prometheus text on its second line.
echo "shop_ok 1"
echo "this is { not a sample"
