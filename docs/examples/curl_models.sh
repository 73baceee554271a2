curl -s -H "Authorization: Bearer $VALUECHAIN_API_KEY" "$VALUECHAIN_URL/api/v1/models" \
  | python3 -c 'import json, sys; [print(m["id"], m["visibility"], m["licence"]) for m in json.load(sys.stdin)]'
curl -s "$VALUECHAIN_URL/api/v1/models"   # no key: 401, in the error envelope every /api/v1 error has
