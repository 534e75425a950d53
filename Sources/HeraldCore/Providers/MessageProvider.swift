import Foundation

/// A message handed to a provider: everything a carrier needs, already rendered.
public struct OutboundMessage: Sendable, Hashable {
    /// Herald's own id for the message; stable across retries and restarts, so a provider that
    /// deduplicates on it never delivers twice.
    public var messageId: String
    /// The organization sending it (providers keep records per organization).
    public var organizationId: String
    public var channel: Channel
    public var from: String
    public var to: String
    public var body: String
    public var mediaUrl: String?
    public var encoding: MessageEncoding
    public var segments: Int

    public init(messageId: String, organizationId: String, channel: Channel, from: String, to: String, body: String,
                mediaUrl: String?, encoding: MessageEncoding, segments: Int) {
        self.messageId = messageId
        self.organizationId = organizationId
        self.channel = channel
        self.from = from
        self.to = to
        self.body = body
        self.mediaUrl = mediaUrl
        self.encoding = encoding
        self.segments = segments
    }
}

/// A carrier's acceptance of a message.
public struct SubmitAcceptance: Sendable, Hashable {
    /// The carrier's id for the message, used to match receipts.
    public var providerMessageId: String

    public init(providerMessageId: String) { self.providerMessageId = providerMessageId }
}

/// Why a provider did not accept a message. Every provider error says whether retrying can help.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The provider's own code (`ESME_RTHROTTLED`, Twilio `21211`, `invalid_number`, …).
    public var code: String
    public var message: String
    /// True for temporary failures (throttling, queue full, timeouts): retry with backoff.
    /// False for permanent ones (invalid number, rejected content): fail at once.
    public var retryable: Bool
    /// When the provider said how long to wait.
    public var retryAfter: Duration?

    public init(code: String, message: String, retryable: Bool, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code): \(message)\(retryable ? " (retryable)" : "")" }
}

/// A delivery receipt from a carrier.
public struct DeliveryReceipt: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        case delivered
        case undelivered
        case failed
    }

    public var providerName: String
    public var providerMessageId: String
    public var outcome: Outcome
    public var errorCode: String?
    public var at: Date

    public init(providerName: String, providerMessageId: String, outcome: Outcome, errorCode: String?, at: Date) {
        self.providerName = providerName
        self.providerMessageId = providerMessageId
        self.outcome = outcome
        self.errorCode = errorCode
        self.at = at
    }
}

/// Something that sends messages: a carrier connection, an HTTP gateway, the simulator.
/// Providers never touch Herald's database (ARCHITECTURE.md).
public protocol MessageProvider: Sendable {
    /// The configured name (`simulator`, `smsc1`, …) senders refer to.
    var name: String { get }
    /// True when resubmitting a `messageId` the provider already accepted is acknowledged
    /// without a second delivery. After a crash, messages caught in flight are resubmitted
    /// under the same id to such providers, and marked `unknown` for the others.
    var deduplicatesByMessageId: Bool { get }
    /// Submits one message; returns when the carrier accepted it, throws when it did not.
    func submit(_ message: OutboundMessage) async throws(ProviderError) -> SubmitAcceptance
    /// Submits several messages at once; result `i` is the outcome of `messages[i]`, exactly as
    /// `submit(_:)` would have given it. A default implementation loops over `submit(_:)`.
    func submitBatch(_ messages: [OutboundMessage]) async -> [Result<SubmitAcceptance, ProviderError>]
}

extension MessageProvider {
    /// Submits messages one by one with `submit(_:)`; providers that can do better (one
    /// transaction, one window of PDUs) implement `submitBatch(_:)` themselves.
    public func submitBatch(_ messages: [OutboundMessage]) async -> [Result<SubmitAcceptance, ProviderError>] {
        var results: [Result<SubmitAcceptance, ProviderError>] = []
        results.reserveCapacity(messages.count)
        for message in messages {
            do throws(ProviderError) {
                results.append(.success(try await submit(message)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}
