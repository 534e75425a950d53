import Foundation
import HeraldCore

/// One message as a simulated phone received it: a row of the simulator's own record.
public struct SimulatorMessage: Sendable, Hashable {
    /// Where the message stands at the simulated carrier.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Accepted; no receipt emitted yet (or never, for destinations ending in `0002`).
        case accepted
        /// A `delivered` receipt was emitted.
        case delivered
        /// An `undelivered` receipt was emitted.
        case undelivered
    }

    /// The record's own increasing sequence number (the keyset for paging).
    public var sequence: Int64
    /// Herald's message id the message was submitted under (unique in the record).
    public var messageId: String
    public var organizationId: String
    public var channel: Channel
    public var to: String
    public var from: String
    public var body: String
    public var mediaUrl: String?
    public var segments: Int
    public var encoding: MessageEncoding
    /// When the simulated carrier accepted it, in epoch milliseconds.
    public var receivedAtMilliseconds: Int64
    /// The id the simulator acknowledged the submit with (receipts carry it).
    public var providerMessageId: String
    public var status: Status

    /// When the simulated carrier accepted it.
    public var receivedAt: Date { Date(timeIntervalSince1970: Double(receivedAtMilliseconds) / 1000) }

    public init(sequence: Int64, messageId: String, organizationId: String, channel: Channel, to: String, from: String,
                body: String, mediaUrl: String?, segments: Int, encoding: MessageEncoding, receivedAtMilliseconds: Int64,
                providerMessageId: String, status: Status) {
        self.sequence = sequence
        self.messageId = messageId
        self.organizationId = organizationId
        self.channel = channel
        self.to = to
        self.from = from
        self.body = body
        self.mediaUrl = mediaUrl
        self.segments = segments
        self.encoding = encoding
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.providerMessageId = providerMessageId
        self.status = status
    }
}
