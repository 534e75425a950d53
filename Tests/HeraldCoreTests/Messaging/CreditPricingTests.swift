import Testing
@testable import HeraldCore

@Suite("Routing and pricing (API.md §2, §5.2)", .timeLimit(.minutes(10)))
struct CreditPricingTests {
    @Test(arguments: [
        (ForceRoute.auto, false, MessageRoute.sms),
        (.auto, true, .mms),
        (.sms, false, .sms),
        (.sms, true, .mms),  // media forces MMS whatever forceRoute says
        (.mms, false, .mms),
        (.mms, true, .mms),
    ])
    func route(_ force: ForceRoute, _ hasMedia: Bool, _ expected: MessageRoute) {
        #expect(MessageRoute.resolve(forceRoute: force, hasMedia: hasMedia) == expected)
    }

    @Test func campaignFieldsRoute() {
        var fields = CampaignFields()
        #expect(fields.route == .sms)
        fields.forceRoute = "SMS"
        fields.mediaUrl = "https://example.com/a.jpg"
        #expect(fields.route == .mms)
        fields.mediaUrl = nil
        fields.forceRoute = "MMS"
        #expect(fields.route == .mms)
    }

    @Test(arguments: [
        (Channel.text, MessageRoute.sms, 1, 1),
        (.text, .sms, 3, 3),
        (.text, .mms, 5, 2),
        (.whatsapp, .sms, 4, 1),
        (.email, .sms, 2, 1),
    ])
    func standardPrices(_ channel: Channel, _ route: MessageRoute, _ segments: Int, _ credits: Int) {
        #expect(CreditPricing.standard.credits(channel: channel, route: route, segments: segments) == credits)
    }

    @Test func priceTableOverridesOtherChannels() {
        let pricing = CreditPricing(channelPrices: [.whatsapp: 3, .rcs: 2], defaultChannelPrice: 1)
        #expect(pricing.credits(channel: .whatsapp, route: .sms, segments: 9) == 3)
        #expect(pricing.credits(channel: .rcs, route: .sms, segments: 9) == 2)
        #expect(pricing.credits(channel: .telegram, route: .sms, segments: 9) == 1)
        #expect(pricing.credits(channel: .text, route: .sms, segments: 9) == 9)
    }

    @Test(arguments: [
        (String(repeating: "a", count: 160), 1),
        (String(repeating: "a", count: 161), 2),
        (String(repeating: "ç", count: 71), 2),
        ("Hi 😀", 1),
    ])
    func creditsFromBody(_ body: String, _ credits: Int) {
        #expect(CreditPricing.standard.credits(channel: .text, route: .sms, body: body) == credits)
        #expect(CreditPricing.standard.credits(channel: .text, route: .mms, body: body) == 2)
    }
}
