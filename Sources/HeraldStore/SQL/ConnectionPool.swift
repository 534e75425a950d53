/// A small fair pool of connections for engines whose connections are used one task at a time
/// (or of any tokens that bound how many tasks do something at once). Waiters are served in
/// arrival order.
public actor ConnectionPool<Connection: Sendable> {
    private var idle: [Connection]
    private var waiters: [CheckedContinuation<Connection, Never>] = []

    public init(_ connections: [Connection]) {
        self.idle = connections
    }

    public func acquire() async -> Connection {
        if let c = idle.popLast() { return c }
        return await withCheckedContinuation { waiters.append($0) }
    }

    public func release(_ connection: Connection) {
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
