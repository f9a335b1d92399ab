#!/bin/sh
# A command printing Prometheus text: a counter and a labelled gauge.
cat <<'EOT'
# HELP shop_orders_total Orders taken since the shop started.
# TYPE shop_orders_total counter
shop_orders_total 1027
# HELP shop_queue_length Orders waiting, per queue.
# TYPE shop_queue_length gauge
shop_queue_length{queue="payment"} 3
shop_queue_length{queue="shipping"} 12.5
EOT
