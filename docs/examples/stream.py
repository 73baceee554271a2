import os

from openai import OpenAI

client = OpenAI(base_url=os.environ["VALUECHAIN_URL"] + "/v1", api_key=os.environ["VALUECHAIN_API_KEY"])
stream = client.chat.completions.create(
    model="demo-provider/smollm2-135m-instruct",
    messages=[{"role": "user", "content": "Which city is the capital of Japan?"}],
    temperature=0,
    stream=True,
    stream_options={"include_usage": True},  # one last chunk with usage and no choices
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
    if chunk.usage:
        print(f"\n({chunk.usage.completion_tokens} tokens)")
