valuechain obligations --chain chain.yaml              # no server needed; grouped by actor, one sentence each
valuechain obligations --chain chain.yaml --format json
valuechain chain import chain.yaml
valuechain obligations                                  # the same for the registry (also GET /api/v1/obligations)
valuechain whatif --chain chain.yaml --set 'models[tuner/ol-7b-legal].weights_public=true'
valuechain neutrality openlab/ol-7b --chain chain.yaml  # duties identical across channels, and why some differ
valuechain docs tuner/ol-7b-legal --kind annex-xi --format pdf --out annex-xi.pdf
valuechain bom openlab/ol-7b                            # CycloneDX 1.6 ML-BOM with lineage
