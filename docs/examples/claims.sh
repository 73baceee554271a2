valuechain claim list --as demo-provider --direction incoming   # who names demo-provider, and its answer
valuechain agreement create --as demo-provider --agent demo-developer --channel white_label --channel marketplace
valuechain agreement list --as demo-developer                   # the agreements demo-developer holds
