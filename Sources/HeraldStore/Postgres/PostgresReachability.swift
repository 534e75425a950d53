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
            let attemptConfiguration = configuration
            let attempt = try await Self.race(until: deadline) {
                let connection = try await PostgresConnection.connect(configuration: attemptConfiguration, id: 1, logger: logger)
                do {
                    _ = try await connection.query("SELECT 1", logger: logger)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            }
            switch attempt {
            case .finished:
                return
            case .timedOut:
                throw DatabaseUnreachable(endpoint: address.endpoint, reason: lastReason)
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

    enum Attempt: Sendable { case finished, timedOut, failed(any Error) }

    /// Runs `body` until `deadline`; past it the result is `.timedOut` whether or not `body`
    /// responds to cancellation (it is cancelled and left to finish on its own).
    static func race(until deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> Void) async throws -> Attempt {
        let once = Once()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Attempt?, Never>) in
                once.set(continuation)
                let work = Task {
                    do { try await body(); once.resume(.finished) } catch { once.resume(.failed(error)) }
                }
                once.onCancel { work.cancel() }
                Task {
                    try? await Task.sleep(until: deadline)
                    work.cancel()
                    once.resume(.timedOut)
                }
            }
        } onCancel: {
            once.cancel()
        }
        guard let result else { throw CancellationError() }
        return result
    }

    /// Resumes a continuation once: with the first result, or with `nil` when cancelled.
    private final class Once: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Attempt?, Never>?
            var cancelled = false
            var onCancel: (@Sendable () -> Void)?
        }
        private let state = Mutex(State())

        func set(_ continuation: CheckedContinuation<Attempt?, Never>) {
            let cancelled = state.withLock { s in
                s.continuation = continuation
                return s.cancelled
            }
            if cancelled { resumeNil() }
        }

        func onCancel(_ action: @escaping @Sendable () -> Void) {
            let cancelled = state.withLock { s in
                s.onCancel = action
                return s.cancelled
            }
            if cancelled { action() }
        }

        func resume(_ attempt: Attempt) {
            state.withLock { s in
                defer { s.continuation = nil }
                return s.continuation
            }?.resume(returning: attempt)
        }

        func cancel() {
            let action = state.withLock { s in
                s.cancelled = true
                return s.onCancel
            }
            action?()
            resumeNil()
        }

        private func resumeNil() {
            state.withLock { s in
                defer { s.continuation = nil }
                return s.continuation
            }?.resume(returning: nil)
        }
    }
}
