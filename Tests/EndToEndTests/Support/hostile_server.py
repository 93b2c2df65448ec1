"""A loopback server that answers like a hostile or broken dev-infra server, for the client's
bounds: GET /v1/keys pages for ever (each page's next_cursor a little further on), and
GET /v1/whoami sends a 64 MiB body. Counts the requests it got on /v1/keys in its answer header.
Prints its port, then serves."""
import http.server, json, sys, threading

pages = 0

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each answer goes out at once, not after a delayed ACK

    def log_message(self, *args):
        pass

    def do_GET(self):
        global pages
        if self.path.startswith("/v1/keys"):
            pages += 1
            body = json.dumps({"items": [], "next_cursor": "c%011d" % pages}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/v1/whoami"):
            size = 64 << 20
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * (1 << 20)
            try:
                for _ in range(64):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
