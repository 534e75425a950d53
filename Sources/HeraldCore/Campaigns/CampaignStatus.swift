import Foundation

/// A campaign's status, exactly seed 000's eight (API.md §5.1).
public enum CampaignStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Being composed; not yet submitted.
    case draft
    /// Launched with a future `scheduledFor`; waits for it.
    case scheduled
    /// Submitted, waiting for admission (per-organization limit of running campaigns).
    case pending
    /// Admitted; recipients being written.
    case queued
    /// Dispatching (also while waiting for quiet hours to end, with `nextSendAt`).
    case sending
    /// Every recipient final (or cancelled).
    case completed
    /// Failed to start or hit a fatal error.
    case failed
    /// Paused by the user; `resume` returns to the status it was paused from.
    case paused

    /// `completed` and `failed` are final: no action applies to them.
    public var isFinal: Bool { self == .completed || self == .failed }

    /// `PATCH /api/campaigns/{id}` is allowed only on drafts (API.md §5.3).
    public var allowsUpdate: Bool { self == .draft }

    /// `DELETE /api/campaigns/{id}` is allowed on drafts and scheduled campaigns (API.md §5.3).
    public var allowsDelete: Bool { self == .draft || self == .scheduled }

    /// Statuses that can be paused (API.md §5.3 `/pause`).
    public var isPausable: Bool { Self.pausable.contains(self) }

    static let pausable: Set<CampaignStatus> = [.scheduled, .pending, .queued, .sending]
    static let nonFinal: Set<CampaignStatus> = Set(allCases.filter { !$0.isFinal })

    /// Applies `action` (API.md §5.3) using `CampaignTransitionTable.rules`.
    /// - Parameter pausedFrom: the status the campaign was paused from; required to `resume`.
    /// - Returns: the new status and the `pausedFrom` to store (set only when the new status is
    ///   `paused`, `nil` otherwise), or an error for a 400 `invalid_state`.
    public func transition(
        _ action: CampaignAction, pausedFrom: CampaignStatus? = nil
    ) -> Result<CampaignTransition, CampaignTransitionError> {
        guard let rule = CampaignTransitionTable.rules[action], rule.from.contains(self) else {
            return .failure(CampaignTransitionError(action: action, status: self))
        }
        let target: CampaignStatus
        switch rule.to {
        case .status(let status):
            target = status
        case .pausedFrom:
            guard let pausedFrom, CampaignStatus.pausable.contains(pausedFrom) else {
                return .failure(CampaignTransitionError(action: action, status: self, missingPausedFrom: true))
            }
            target = pausedFrom
        }
        return .success(CampaignTransition(from: self, to: target, pausedFrom: target == .paused ? self : nil))
    }
}

/// Something that moves a campaign between statuses (API.md §5.3; the engine's own steps).
public enum CampaignAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// `POST /api/campaigns` sending now: draft → pending.
    case launch
    /// `POST /api/campaigns` with a future `scheduledFor`: draft → scheduled.
    case schedule
    /// The scheduled time arrived: scheduled → pending.
    case release
    /// `/unschedule`: scheduled → draft.
    case unschedule
    /// Admission control let it run: pending → queued.
    case admit
    /// Recipients written, dispatch begins: queued → sending.
    case startSending
    /// `/pause`: scheduled | pending | queued | sending → paused.
    case pause
    /// `/resume`: paused → the status it was paused from.
    case resume
    /// `/cancel`: any non-final → completed (unsent recipients become `cancelled`).
    case cancel
    /// Every recipient final: sending → completed.
    case complete
    /// Fatal error: any non-final → failed.
    case fail

    /// The verb used in error messages ("cannot pause a completed campaign").
    public var verb: String {
        switch self {
        case .startSending: "start sending"
        default: rawValue
        }
    }

    /// The launch action for a `scheduledFor` (API.md §5.2): `schedule` when it is more than
    /// 30 s after `now`, `launch` otherwise.
    public static func launch(scheduledFor: Date?, now: Date) -> CampaignAction {
        CampaignSchedule.launchStatus(scheduledFor: scheduledFor, now: now) == .scheduled ? .schedule : .launch
    }
}

/// The campaign state machine as data: for every action, the statuses it applies to and where it
/// leads. Both the engine and the API read this table; nothing else decides transitions.
public enum CampaignTransitionTable {
    public enum Target: Sendable, Hashable {
        case status(CampaignStatus)
        /// Back to the status the campaign was paused from.
        case pausedFrom
    }

    public struct Rule: Sendable, Hashable {
        public let from: Set<CampaignStatus>
        public let to: Target
    }

    public static let rules: [CampaignAction: Rule] = [
        .launch: Rule(from: [.draft], to: .status(.pending)),
        .schedule: Rule(from: [.draft], to: .status(.scheduled)),
        .release: Rule(from: [.scheduled], to: .status(.pending)),
        .unschedule: Rule(from: [.scheduled], to: .status(.draft)),
        .admit: Rule(from: [.pending], to: .status(.queued)),
        .startSending: Rule(from: [.queued], to: .status(.sending)),
        .pause: Rule(from: CampaignStatus.pausable, to: .status(.paused)),
        .resume: Rule(from: [.paused], to: .pausedFrom),
        .cancel: Rule(from: CampaignStatus.nonFinal, to: .status(.completed)),
        .complete: Rule(from: [.sending], to: .status(.completed)),
        .fail: Rule(from: CampaignStatus.nonFinal, to: .status(.failed)),
    ]
}

/// A successful transition.
public struct CampaignTransition: Sendable, Hashable {
    public var from: CampaignStatus
    public var to: CampaignStatus
    /// The status to remember for `resume`: set when `to == .paused`, else `nil`.
    public var pausedFrom: CampaignStatus?
}

/// An action that is not allowed in the campaign's current status: a 400 `invalid_state`
/// (API.md §1, §5.3).
public struct CampaignTransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var action: CampaignAction
    public var status: CampaignStatus
    /// True when resuming failed only because the paused-from status is unknown.
    public var missingPausedFrom: Bool

    public init(action: CampaignAction, status: CampaignStatus, missingPausedFrom: Bool = false) {
        self.action = action
        self.status = status
        self.missingPausedFrom = missingPausedFrom
    }

    /// The API error code.
    public var code: String { "invalid_state" }

    /// "cannot pause a completed campaign".
    public var message: String {
        if missingPausedFrom {
            return "cannot resume this paused campaign: the status it was paused from is unknown"
        }
        return "cannot \(action.verb) a \(status.rawValue) campaign"
    }

    public var description: String { message }
}
