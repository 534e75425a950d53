/// A small fair pool of connections for engines whose connections are used one task at a time.
/// Waiters are served in arrival order.
actor ConnectionPool<Connection: Sendable> {
    private var idle: [Connection]
    private var waiters: [CheckedContinuation<Connection, Never>] = []

    init(_ connections: [Connection]) {
        self.idle = connections
    }

    func acquire() async -> Connection {
        if let c = idle.popLast() { return c }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func release(_ connection: Connection) {
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            waiters.removeFirst().resume(returning: connection)
        }
    }

    /// Takes every idle connection out (used on close).
    func drain() -> [Connection] {
        defer { idle.removeAll() }
        return idle
    }
}
