// The playground streams: the form is sent as JSON to /playground/chat, whose answer is the gateway's
// OpenAI SSE stream; each delta is appended as it arrives. Without this script the form posts normally
// and the page shows the whole answer.
(function () {
  "use strict";
  const form = document.getElementById("chat-form");
  if (!form) return;
  const log = document.getElementById("chat-log");
  const history = [];

  function bubble(kind, text) {
    const el = document.createElement("article");
    el.className = "msg " + kind;
    el.textContent = text;
    log.appendChild(el);
    return el;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const messageBox = document.getElementById("chat-message");
    const message = messageBox.value.trim();
    if (!message) return;
    const send = document.getElementById("chat-send");
    send.disabled = true;
    history.push({ role: "user", content: message });
    bubble("user", message);
    const answer = bubble("assistant", "");
    answer.id = "chat-answer";
    messageBox.value = "";
    const body = {
      model: document.getElementById("chat-model").value,
      messages: history,
      max_tokens: parseInt(document.getElementById("chat-max-tokens").value, 10) || 64,
    };
    try {
      const response = await fetch("/playground/chat", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": form.elements.csrf.value },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      if (!response.ok || !response.body) {
        const text = await response.text();
        let detail = text;
        try { detail = JSON.parse(text).error.message; } catch (e) { /* not an OpenAI error object */ }
        answer.classList.add("error");
        answer.textContent = "Error " + response.status + ": " + detail;
        history.pop();
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let full = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) !== -1) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") { answer.dataset.done = "true"; continue; }
            const chunk = JSON.parse(data);
            if (chunk.error) { answer.classList.add("error"); answer.textContent += " [" + chunk.error.message + "]"; continue; }
            for (const choice of chunk.choices || []) {
              const piece = (choice.delta && choice.delta.content) || "";
              full += piece;
              answer.textContent = full;
            }
            if (chunk.usage) answer.title = chunk.usage.prompt_tokens + " prompt + " + chunk.usage.completion_tokens + " completion tokens";
          }
        }
      }
      history.push({ role: "assistant", content: full });
    } finally {
      send.disabled = false;
    }
  });
})();
