/// Credit prices (API.md §2 "Credits"): an SMS costs 1 credit per segment (GSM-7 160/153,
/// UCS-2 70/67), an MMS 2 credits per message, any other channel its price from the configured
/// table (1 per message when not configured).
public struct CreditPricing: Sendable, Hashable {
    public var smsCreditsPerSegment: Int
    public var mmsCreditsPerMessage: Int
    /// Credits per message for channels other than `text`.
    public var channelPrices: [Channel: Int]
    /// Price for a non-text channel missing from `channelPrices`.
    public var defaultChannelPrice: Int

    public init(
        smsCreditsPerSegment: Int = 1,
        mmsCreditsPerMessage: Int = 2,
        channelPrices: [Channel: Int] = [:],
        defaultChannelPrice: Int = 1
    ) {
        self.smsCreditsPerSegment = smsCreditsPerSegment
        self.mmsCreditsPerMessage = mmsCreditsPerMessage
        self.channelPrices = channelPrices
        self.defaultChannelPrice = defaultChannelPrice
    }

    /// The standard prices of API.md §2.
    public static let standard = CreditPricing()

    /// Credits one message costs. `segments` only matters for SMS (see `SegmentCounter`).
    public func credits(channel: Channel, route: MessageRoute, segments: Int) -> Int {
        guard channel == .text else { return channelPrices[channel] ?? defaultChannelPrice }
        switch route {
        case .sms: return smsCreditsPerSegment * max(segments, 0)
        case .mms: return mmsCreditsPerMessage
        }
    }

    /// Credits for a text message given its body and route: counts the segments itself.
    public func credits(channel: Channel, route: MessageRoute, body: String) -> Int {
        let segments = (channel == .text && route == .sms) ? SegmentCounter.count(body).segments : 0
        return credits(channel: channel, route: route, segments: segments)
    }
}
