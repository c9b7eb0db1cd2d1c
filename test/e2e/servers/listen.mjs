// Shared by the loopback servers: listen on a free port, and close without waiting for keep-alive sockets.

/** Listens on `port` (0 = a free one) and resolves with the port. */
export function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

/** Tracks the server's sockets; the returned function closes the server and destroys them. */
export function closer(server) {
  const sockets = new Set();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
}
