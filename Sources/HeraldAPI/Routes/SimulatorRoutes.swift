import HeraldCore
import HeraldProviders
import Hummingbird

/// `GET /api/simulator/messages` (API.md §8): what each phone received from the built-in carrier
/// simulator, scoped to the caller's organization, oldest first. Without a simulator in this
/// process the endpoint answers 404.
struct SimulatorRoutes {
    let simulator: SimulatorProvider?

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.get("simulator/messages") { request, context in
            let scope = try context.scope()
            var q = QueryParameters(request)
            let to = q.string("to").map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            var after: Int64?
            if let cursor {
                guard let key = cursor.intKey else {
                    throw APIError.invalidRequest("Some query parameters are invalid.",
                                                  details: [FieldIssue(field: "cursor", message: "is not a cursor this server issued")])
                }
                after = key
            }
            guard let simulator else { throw APIError.notFound("simulator") }
            let (messages, last) = Paging.split(try await simulator.messages(organizationId: scope.id, to: to, limit: limit + 1, after: after), limit: limit)
            let next = last.map { KeysetCursor(sortValue: $0.sequence, id: $0.sequence) }
            return Paging.envelope(messages.map(Self.present), next: next, total: nil, request: request)
        }
    }

    static func present(_ m: SimulatorMessage) -> JSON {
        .object([
            "to": .string(m.to),
            "from": .string(m.from),
            "body": .string(m.body),
            "mediaUrl": .opt(m.mediaUrl),
            "segments": .int(m.segments),
            "encoding": .string(m.encoding.rawValue),
            "receivedAt": .instant(m.receivedAtMilliseconds),
        ])
    }
}
