valuechain org create acme --name "Acme SA" --country FR --sme
valuechain key create --org acme --format json      # a member key; {"key": "vc_…", …}: the secret is printed once; --role admin for more
