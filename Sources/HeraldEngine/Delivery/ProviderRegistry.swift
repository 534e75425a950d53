import Foundation
import HeraldCore
import Synchronization

/// A stream of receipts from a provider, how to acknowledge the ones applied, and how to stop it.
public struct ReceiptSource: Sendable {
    public var receipts: AsyncStream<DeliveryReceipt>
    public var finish: @Sendable () -> Void
    /// Called with receipts once they are committed; a provider re-sends what it never hears back about.
    public var acknowledge: @Sendable ([DeliveryReceipt]) async -> Void

    public init(receipts: AsyncStream<DeliveryReceipt>, finish: @escaping @Sendable () -> Void,
                acknowledge: @escaping @Sendable ([DeliveryReceipt]) async -> Void = { _ in }) {
        self.receipts = receipts
        self.finish = finish
        self.acknowledge = acknowledge
    }
}

/// The configured providers by name, and which campaigns use which.
public final class ProviderRegistry: Sendable {
    public let providers: [String: any MessageProvider]
    public let receiptSources: [ReceiptSource]
    private let campaignProvider = Mutex<[Int64: String]>([:])

    public init(providers: [any MessageProvider], receiptSources: [ReceiptSource] = []) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.receiptSources = receiptSources
    }

    public func provider(named name: String) -> (any MessageProvider)? { providers[name] }

    func remember(campaign: Int64, provider: String) {
        campaignProvider.withLock { $0[campaign] = provider }
    }

    /// Whether the provider a campaign sends through deduplicates resubmissions. Unknown
    /// campaigns (not dispatched by this process) are judged by the only provider if there is
    /// one kind, else conservatively false.
    @Sendable public func deduplicates(campaign: Int64) -> Bool {
        if let name = campaignProvider.withLock({ $0[campaign] }), let p = providers[name] { return p.deduplicatesByMessageId }
        return !providers.isEmpty && providers.values.allSatisfy(\.deduplicatesByMessageId)
    }
}
