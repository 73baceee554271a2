valuechain chain check chain.yaml      # every problem, with line, field and what is wrong; exit 1 if any
valuechain chain import chain.yaml     # all or nothing; importing again changes nothing
valuechain chain export > chain.yaml   # the registry back out; import → export → import is lossless
