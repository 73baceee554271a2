import os

from openai import OpenAI

client = OpenAI(base_url=os.environ["VALUECHAIN_URL"] + "/v1", api_key=os.environ["VALUECHAIN_API_KEY"])
print([m.id for m in client.models.list()])
reply = client.chat.completions.create(
    model="demo-provider/smollm2-135m-instruct",
    messages=[{"role": "user", "content": "Which city is the capital of France?"}],
    temperature=0,
)
print(reply.choices[0].message.content)
print(reply.usage.prompt_tokens, "prompt tokens,", reply.usage.completion_tokens, "completion tokens")
