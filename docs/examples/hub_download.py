from huggingface_hub import HfApi, hf_hub_download  # reads HF_ENDPOINT and HF_TOKEN

repo = "demo-provider/smollm2-135m-instruct"
info = HfApi().model_info(repo)
print(info.id, info.card_data.license, [f.rfilename for f in info.siblings])
path = hf_hub_download(repo, "SmolLM2-135M-Instruct.Q4_1.gguf")
with open(path, "rb") as weights:
    print(path.split("/")[-1], weights.read(4))
