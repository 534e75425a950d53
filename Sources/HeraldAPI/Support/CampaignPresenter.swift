import Foundation
import HeraldCore
import HeraldEngine

/// The JSON shapes of API.md §5: the campaign object, its metrics, and the estimate.
enum CampaignPresenter {
    static let requestEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Instant.format(Int64((date.timeIntervalSince1970 * 1000).rounded())))
        }
        return e
    }()

    static func optBool(_ b: Bool?) -> JSON { b.map { .bool($0) } ?? .null }
    static func optInt(_ i: Int?) -> JSON { i.map { .int($0) } ?? .null }

    /// The counts of `metrics` and of each of its `variants` (API.md §5.1).
    static func counts(_ n: CampaignCounters) -> [String: JSON] {
        [
            "audienceSize": .int(n.total), "sentCount": .int(n.sent), "deliveredCount": .int(n.delivered), "failedCount": .int(n.failed),
            "queuedCount": .int(n.queued), "skippedCount": .int(n.skipped), "deliveryRate": .number(n.deliveryRate),
            "replyRate": .number(CampaignCounters.rate(n.replies, of: n.sent)), "creditsUsed": .int(n.creditsUsed),
        ]
    }

    static func campaign(_ c: CampaignRecord, detailed: Bool = false, sender: Sender? = nil, variants: [String: CampaignCounters]? = nil) -> JSON {
        let f = c.fields
        let n = c.counters
        var o: [String: JSON] = [
            "id": .string(c.id), "name": .opt(f.name), "status": .string(c.status.rawValue),
            "channel": .string(f.resolvedChannel.rawValue), "fallbackChannels": .strings(f.fallbackChannels ?? []),
            "message": .opt(f.message), "mediaUrl": .opt(f.mediaUrl), "forceRoute": .string(f.resolvedForceRoute.rawValue),
            "normalizeUnicode": .bool(f.resolvedNormalizeUnicode), "segmentId": .opt(f.segmentId),
            "contactFilter": f.contactFilter ?? .null, "listIds": f.listIds.map { .strings($0) } ?? .null,
            "senderId": .opt(f.senderId),
            "scheduledFor": f.scheduledFor.map { .instant(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
            "timezone": .opt(f.timezone), "abTestEnabled": .bool(f.isABTest), "messageVariantA": .opt(f.messageVariantA),
            "messageVariantB": .opt(f.messageVariantB), "abTestSamplePercent": .int(f.resolvedSamplePercent),
            "abTestMetric": .string(f.resolvedABTestMetric.rawValue), "abTestDurationMinutes": .int(f.resolvedDurationMinutes),
            "abTestWinner": .opt(c.abTestWinner), "autoReplyEnabled": .bool(f.isAutoReply), "yesResponse": .opt(f.yesResponse),
            "noResponse": .opt(f.noResponse),
            "faqReplies": .array((f.faqReplies ?? []).map { .object(["question": .opt($0.question), "answer": .opt($0.answer)]) }),
            "trackLinks": .bool(f.resolvedTrackLinks), "subject": .opt(f.subject), "template": f.template ?? .null,
            "totalCount": .int(n.total), "sentCount": .int(n.sent), "failedCount": .int(n.failed), "queuedCount": .int(n.queued),
            "deliveredCount": .int(n.delivered), "skippedCount": .int(n.skipped), "deliveryRate": .number(n.deliveryRate),
            "replyCountExcludingOptouts": .int(n.replies), "optOutCount": .int(n.optOuts), "clickCount": .int(n.clicks),
            "uniqueClickCount": .int(n.uniqueClicks), "creditsUsed": .int(n.creditsUsed), "failureReason": .opt(c.failureReason),
            "nextSendAt": .instant(c.nextSendAt), "createdAt": .instant(c.createdAt), "updatedAt": .instant(c.updatedAt),
            "startedAt": .instant(c.startedAt), "completedAt": .instant(c.completedAt),
        ]
        if detailed {
            o["phoneNumber"] = sender.map { s in
                .object(["id": .string(s.id), "address": .string(s.address), "label": .opt(s.label), "type": .string(s.type.rawValue)])
            } ?? .null
            var metrics = counts(n)
            metrics["clickRate"] = .number(CampaignCounters.rate(n.uniqueClicks, of: n.sent))
            metrics["linkClicks"] = .int(n.clicks)
            metrics["uniqueLinkClicks"] = .int(n.uniqueClicks)
            metrics["optOuts"] = .int(n.optOuts)
            metrics["variants"] = variants.map { v in .object(v.mapValues { .object(counts($0)) }) } ?? .null
            o["metrics"] = .object(metrics)
        }
        return .object(o)
    }

    static func estimate(_ e: CampaignEstimate) -> JSON {
        .object([
            "audienceSize": .int(e.audienceSize),
            "excluded": .object(["optedOut": .int(e.optedOut), "notTextable": .int(e.notTextable), "duplicatePhone": .int(e.duplicatePhone)]),
            "recipients": .int(e.recipients),
            "route": .string(e.route == .mms ? "MMS" : "SMS"),
            "encoding": .string(e.encoding.rawValue),
            "segmentsPerMessage": .object(["min": .int(e.segmentsMin), "max": .int(e.segmentsMax), "avg": .number(e.segmentsAvg)]),
            "totalSegments": .int(e.totalSegments),
            "credits": .int(e.credits),
            "creditBalance": .int(e.creditBalance),
            "sufficientCredits": .bool(e.sufficientCredits),
            "nonGsmCharacters": .strings(e.nonGsmCharacters),
            "sendWindow": .object([
                "opensAt": e.sendWindowOpensAt.map { .instant(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
                "closesAt": e.sendWindowClosesAt.map { .instant(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null,
            ]),
        ])
    }
}
