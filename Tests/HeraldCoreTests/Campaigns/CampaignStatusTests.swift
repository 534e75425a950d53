import Foundation
import Testing
@testable import HeraldCore

/// The state machine of API.md §5.3, written out independently of `CampaignTransitionTable`.
/// Columns are statuses, rows actions; `-` = not allowed (400 invalid_state), `*` = back to the
/// paused-from status.
private let expectedTable = """
    action       draft     scheduled pending   queued    sending   completed failed paused
    launch       pending   -         -         -         -         -         -      -
    schedule     scheduled -         -         -         -         -         -      -
    release      -         pending   -         -         -         -         -      -
    unschedule   -         draft     -         -         -         -         -      -
    admit        -         -         queued    -         -         -         -      -
    startSending -         -         -         sending   -         -         -      -
    pause        -         paused    paused    paused    paused    -         -      -
    resume       -         -         -         -         -         -         -      *
    cancel       completed completed completed completed completed -         -      completed
    complete     -         -         -         -         completed -         -      -
    fail         failed    failed    failed    failed    failed    -         -      failed
    """

private struct ExpectedTransition: Sendable, CustomTestStringConvertible {
    let status: CampaignStatus
    let action: CampaignAction
    let target: String
    var testDescription: String { "\(action.rawValue) from \(status.rawValue)" }
}

private let expectedTransitions: [ExpectedTransition] = {
    let lines = expectedTable.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    let statuses = lines[0].dropFirst().map { CampaignStatus(rawValue: $0)! }
    return lines.dropFirst().flatMap { cells in
        statuses.enumerated().map { index, status in
            ExpectedTransition(status: status, action: CampaignAction(rawValue: cells[0])!, target: cells[index + 1])
        }
    }
}()

@Suite("Campaign state machine (API.md §5.1, §5.3)", .timeLimit(.minutes(10)))
struct CampaignStatusTests {
    @Test func tableCoversEveryStatusAndAction() {
        #expect(expectedTransitions.count == CampaignStatus.allCases.count * CampaignAction.allCases.count)
        #expect(Set(expectedTransitions.map(\.status)) == Set(CampaignStatus.allCases))
        #expect(Set(expectedTransitions.map(\.action)) == Set(CampaignAction.allCases))
        #expect(CampaignStatus.allCases.map(\.rawValue) == ["draft", "scheduled", "pending", "queued", "sending", "completed", "failed", "paused"])
    }

    @Test(arguments: expectedTransitions)
    fileprivate func transition(_ row: ExpectedTransition) {
        for pausedFrom in [nil] + CampaignStatus.allCases {
            let result = row.status.transition(row.action, pausedFrom: pausedFrom)
            switch row.target {
            case "-":
                guard case .failure(let error) = result else {
                    Issue.record("expected invalid_state, got \(result)")
                    continue
                }
                #expect(error.code == "invalid_state")
                #expect(error.message == "cannot \(row.action.verb) a \(row.status.rawValue) campaign")
            case "*":
                if let pausedFrom, [.scheduled, .pending, .queued, .sending].contains(pausedFrom) {
                    #expect(result == .success(CampaignTransition(from: .paused, to: pausedFrom, pausedFrom: nil)))
                } else {
                    #expect(result == .failure(CampaignTransitionError(action: .resume, status: .paused, missingPausedFrom: true)))
                }
            default:
                let target = CampaignStatus(rawValue: row.target)!
                let remembered: CampaignStatus? = target == .paused ? row.status : nil
                #expect(result == .success(CampaignTransition(from: row.status, to: target, pausedFrom: remembered)))
            }
        }
    }

    @Test func errorMessageReadsNaturally() throws {
        guard case .failure(let error) = CampaignStatus.completed.transition(.pause) else {
            Issue.record("pausing a completed campaign must fail")
            return
        }
        #expect(error.message == "cannot pause a completed campaign")
        guard case .failure(let other) = CampaignStatus.draft.transition(.startSending) else {
            Issue.record("start sending a draft must fail")
            return
        }
        #expect(other.message == "cannot start sending a draft campaign")
    }

    @Test func pauseThenResumeReturnsWhereItWas() throws {
        for status in [CampaignStatus.scheduled, .pending, .queued, .sending] {
            let paused = try status.transition(.pause).get()
            #expect(paused.to == .paused)
            #expect(paused.pausedFrom == status)
            let resumed = try paused.to.transition(.resume, pausedFrom: paused.pausedFrom).get()
            #expect(resumed.to == status)
        }
    }

    @Test(arguments: CampaignStatus.allCases)
    func permissions(_ status: CampaignStatus) {
        #expect(status.allowsUpdate == (status == .draft))
        #expect(status.allowsDelete == [.draft, .scheduled].contains(status))
        #expect(status.isFinal == [.completed, .failed].contains(status))
    }

    @Test(arguments: [
        (nil as TimeInterval?, CampaignAction.launch),
        (-3600, .launch),
        (0, .launch),
        (30, .launch),
        (30.001, .schedule),
        (31, .schedule),
        (86_400, .schedule),
    ])
    func launchActionFromScheduledFor(_ offset: TimeInterval?, _ expected: CampaignAction) {
        let now = Date(timeIntervalSince1970: 1_776_000_000)
        let scheduledFor = offset.map { now.addingTimeInterval($0) }
        #expect(CampaignAction.launch(scheduledFor: scheduledFor, now: now) == expected)
        let status: CampaignStatus = expected == .schedule ? .scheduled : .pending
        #expect(CampaignSchedule.launchStatus(scheduledFor: scheduledFor, now: now) == status)
    }
}

@Suite("Recipient message statuses (API.md §5.1)", .timeLimit(.minutes(10)))
struct RecipientMessageStatusTests {
    @Test func exactlyTheNineStatuses() {
        #expect(RecipientMessageStatus.allCases.map(\.rawValue)
            == ["queued", "sending", "sent", "delivered", "undelivered", "failed", "skipped", "cancelled", "unknown"])
    }

    @Test(arguments: [
        (RecipientMessageStatus.queued, false), (.sending, false), (.sent, true), (.delivered, true),
        (.undelivered, true), (.failed, true), (.skipped, true), (.cancelled, true), (.unknown, true),
    ])
    func finality(_ status: RecipientMessageStatus, _ isFinal: Bool) {
        #expect(status.isFinal == isFinal)
        #expect(status.awaitsDeliveryReceipt == (status == .sent))
        #expect(status.countsAsSent == [.sent, .delivered, .undelivered].contains(status))
    }
}
