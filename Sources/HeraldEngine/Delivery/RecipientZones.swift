import Foundation
import PhoneNumbers

/// The time zones a recipient's quiet hours are checked in (DOMAIN.md §3.1): the campaign's
/// zone when it has one, else the contact's own, else every zone the number may be in
/// (libphonenumber's geographic data), else the organization's. With several candidate zones a
/// message may go only while the window is open in all of them. The dispatcher applies this
/// per message, and the estimate per kind of recipient, so both tell the same time.
enum RecipientZones {
    static func zones(campaignZone: TimeZone?, contactZone: String?, phone: String, defaultRegion: String, organizationZone: TimeZone) -> [TimeZone] {
        if let campaignZone { return [campaignZone] }
        if let zone = contactZone.flatMap(TimeZone.init(identifier:)) { return [zone] }
        if let number = try? PhoneNumberKit.shared.parse(phone, defaultRegion: defaultRegion) {
            let zones = PhoneNumberKit.shared.timeZones(for: number).compactMap(TimeZone.init(identifier:))
            if !zones.isEmpty { return zones }
        }
        return [organizationZone]
    }
}
