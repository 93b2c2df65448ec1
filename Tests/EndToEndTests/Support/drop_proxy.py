"""A loopback HTTP proxy that forwards every request to the server, except that for the first
`POST /v1/keys` it lets the server commit and then drops the client's connection without an
answer, as a network that fails at the worst moment does. Prints its port, then serves."""
import socket, sys, threading

upstream_port = int(sys.argv[1])
dropped = threading.Event()

def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += conn.recv(65536)
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n" + body

def serve(client):
    request = read_request(client)
    if request is None:
        client.close()
        return
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    upstream.sendall(request)
    response = b""
    while True:
        chunk = upstream.recv(65536)
        if not chunk:
            break
        response += chunk
    upstream.close()
    if request.startswith(b"POST /v1/keys ") and not dropped.is_set():
        dropped.set()
        client.close()  # the key exists on the server; the client never hears of it
        return
    client.sendall(response)
    client.close()

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
