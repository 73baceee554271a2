valuechain org create acme --name "Acme SA" --country FR --sme
valuechain key create --org acme --format json      # {"key": "vc_…", …}: the secret is printed once
