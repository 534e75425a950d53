import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The database could not be used at startup; the message names `host:port` but never the password.
public struct DatabaseUnreachable: Error, Sendable, CustomStringConvertible {
    public var endpoint: String
    public var reason: String
    public var description: String { "cannot reach the database at \(endpoint): \(reason)" }
}

extension PostgresDatabase {
    /// Connects once outside the pool and runs `SELECT 1`, so that a wrong address, a missing
    /// database or refused credentials fail at startup instead of the pool retrying for ever.
    ///
    /// Connection failures (refused, unknown host, no answer) are retried until `timeout` has
    /// passed; an error the server reports (no such database, authentication failed) is thrown at
    /// once. Throws `DatabaseUnreachable`; honours task cancellation.
    public func checkReachable(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        let address = self.address
        let logger = self.logger
        var lastReason = "no answer within \(timeout.components.seconds) s"
        while true {
            let remaining = deadline - ContinuousClock.now
            var configuration = PostgresConnection.Configuration(
                host: address.host, port: address.port, username: address.username,
                password: address.password, database: address.database, tls: .disable)
            let millis = max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            configuration.options.connectTimeout = .milliseconds(millis)
            let attempt = await Self.attempt(configuration, until: deadline, logger: logger)
            switch attempt {
            case .finished:
                return
            case .timedOut:
                throw DatabaseUnreachable(endpoint: address.endpoint, reason: lastReason)
            case .cancelled:
                throw CancellationError()
            case .failed(let error):
                let (reason, fromServer) = Self.describe(error)
                if fromServer { throw DatabaseUnreachable(endpoint: address.endpoint, reason: reason) }
                lastReason = reason
            }
            guard ContinuousClock.now + .milliseconds(500) < deadline else {
                throw DatabaseUnreachable(endpoint: address.endpoint, reason: lastReason)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// A readable reason for a connection error, and whether the server itself reported it.
    /// Never includes the password: PostgreSQL's messages name the user and database only.
    static func describe(_ error: any Error) -> (String, fromServer: Bool) {
        guard let error = error as? PSQLError else { return (Self.describeNetwork(error), false) }
        if let message = error.serverInfo?[.message] { return (message, true) }
        if let underlying = error.underlying { return (Self.describeNetwork(underlying), false) }
        switch error.code {
        case .serverClosedConnection: return ("the server closed the connection", false)
        case .connectionError: return ("connection failed", false)
        default: return ("\(error.code)", false)
        }
    }

    private static func describeNetwork(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError {
            if let failure = e.connectionErrors.first { return describeNetwork(failure.error) }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "unknown host \(e.host)" }
            return "connection failed"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? ChannelError, case .connectTimeout = e { return "no answer (connect timeout)" }
        if error is SocketAddressError { return "unknown host" }
        return "\(error)"
    }

    enum Attempt: Sendable { case finished, timedOut, cancelled, failed(any Error) }

    /// One connection and `SELECT 1`, raced against `deadline` in a task group. The connect
    /// itself gives up at the deadline (`connectTimeout`); a server that accepts the connection
    /// and then never answers is cut off by closing the connection when the deadline wins, so the
    /// group never waits past it.
    static func attempt(_ configuration: PostgresConnection.Configuration, until deadline: ContinuousClock.Instant, logger: Logger) async -> Attempt {
        let opened = OpenConnection()
        return await withTaskGroup(of: Attempt.self) { group in
            group.addTask {
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                    opened.set(connection)
                    defer { opened.set(nil) }
                    do {
                        _ = try await connection.query("SELECT 1", logger: logger)
                    } catch {
                        try? await connection.close()
                        return .failed(error)
                    }
                    try? await connection.close()
                    return .finished
                } catch {
                    return .failed(error)
                }
            }
            group.addTask {
                do { try await Task.sleep(until: deadline) } catch { return .cancelled }
                return .timedOut
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            if case .timedOut = first, let stuck = opened.get() { try? await stuck.close() }
            return first
        }
    }

    /// The attempt's connection while it runs its query, for the deadline to close.
    final class OpenConnection: Sendable {
        private let connection = Mutex<PostgresConnection?>(nil)
        func set(_ value: PostgresConnection?) { connection.withLock { $0 = value } }
        func get() -> PostgresConnection? { connection.withLock { $0 } }
    }
}
