/// Contacts render templates directly: no dictionary is built per recipient (API.md §5.2 merge
/// fields map to the contact's fields and its `customFields`).
extension Contact: MergeFieldValues {
    public func value(for field: StandardMergeField) -> String? {
        switch field {
        case .firstName: firstName
        case .lastName: lastName
        case .email: email
        case .phone: phone
        case .city: city
        case .state: state
        case .zip: zip
        }
    }

    public func customValue(named name: String) -> String? {
        customFields[name]
    }
}
