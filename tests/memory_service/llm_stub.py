"""A deterministic OpenAI-compatible chat endpoint for the LLM contract test, run as its own process:
`python tests/memory_service/llm_stub.py` prints the port it listens on. It answers an extraction request with
one fact per numbered sentence (relation "told the stub first", object "item 0") and a questions request with two
questions per numbered item ("What did the stub hear first?"), in the JSON the service asks for."""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply_for(system: str, user: str) -> dict:
    items = [int(m.group(1)) for m in re.finditer(r"^(\d+)\. ", user, re.MULTILINE)]
    nth = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
    if system.startswith("Read durable facts"):
        who = re.search(r'"I", "my", "we" mean (.+?)\.', system).group(1)
        return {"facts": [{"sentence": i, "subject": who, "relation": f"told the stub {nth[i % 10]}",
                           "object": f"item {i}"} for i in items]}
    return {"questions": [{"item": i, "question": q} for i in items
                          for q in (f"What did the stub hear {nth[i % 10]}?", f"Which entry came {nth[i % 10]} to the stub?")]}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 -- the http.server interface
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        messages = {m["role"]: m["content"] for m in body["messages"]}
        content = json.dumps(reply_for(messages.get("system", ""), messages.get("user", "")))
        out = json.dumps({"id": "stub", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": content}}],
                          "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):  # quiet
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()
