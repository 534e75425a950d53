import HeraldCore
import Testing

@Suite("Contact import header and rows", .timeLimit(.minutes(10)))
struct ContactImportHeaderTests {
    @Test("Header names map case-insensitively and trimmed", arguments: [
        (" Phone ", ContactImportField.phone), ("PHONENUMBER", .phone), ("mobile", .phone),
        ("firstname", .firstName), ("First_Name", .firstName), ("LAST_NAME", .lastName),
        ("lastName", .lastName), ("Email", .email), ("city", .city), ("State", .state),
        ("zip", .zip), ("postalCode", .zip), ("TimeZone", .timezone), ("tags", .tags),
        ("OptedOut", .optedOut), (" team_2 ", .custom("team_2")), ("Team", .custom("Team")),
        // Spreadsheet and CRM spellings, and headers made into custom field names.
        ("Phone Number", .phone), ("Mobile Phone", .phone), ("First Name", .firstName), ("FIRST-NAME", .firstName),
        ("Surname", .lastName), ("Email Address", .email), ("e-mail", .email), ("Zip Code", .zip), ("Postal_Code", .zip),
        ("Time Zone", .timezone), ("Date of Birth", .custom("Date_of_Birth")), ("Member-ID", .custom("Member_ID")),
        ("2024 spend", .custom("field_2024_spend")), ("Größe", .custom("Grosse")), ("  --Notes!! ", .custom("Notes")),
        // Letters outside the Latin alphabet are transliterated.
        ("名前", .custom("ming_qian")), ("Имя", .custom("Ima")), ("Ελληνικά", .custom("Ellenika")), (" 이름 ", .custom("ileum")),
        ("2024 год", .custom("field_2024")), ("اسم", .custom("asm")),
    ])
    func mapping(name: String, field: ContactImportField) throws {
        let header = try ContactImportHeader(names: name.lowercased().contains("phone") || name == "mobile" ? [name] : ["phone", name])
        #expect(header.columns.last! == field)
    }

    @Test("Whole-import errors are all reported", arguments: [
        (["first_name", "email"], ["header"]),
        (["phone", "mobile"], ["header[1]"]),
        (["phone", "zip", "postalCode", "team", "team"], ["header[2]", "header[4]"]),
        (["phone", "★★", "Team Name", "team-name", "Team_Name"], ["header[1]", "header[4]"]),
        (["email", "email", "★"], ["header[1]", "header[2]", "header"]),
        (["phone", "Phone #", "e-mail!"], ["header[1]", "header[2]"]),
    ])
    func headerErrors(names: [String], fields: [String]) {
        #expect(throws: ValidationError.self) { try ContactImportHeader(names: names) }
        do {
            _ = try ContactImportHeader(names: names)
        } catch {
            #expect(error.issues.map(\.field) == fields)
        }
    }

    @Test("A duplicate column names both headers, numbered as the issue's field is", arguments: [
        (["phone", "Date of Birth", "Date_of_Birth"],
         #"header[2]: "Date_of_Birth" names the same field as "Date of Birth" (header[1]): the custom field Date_of_Birth"#),
        (["phone", "mobile"], #"header[1]: "mobile" names the same field as "phone" (header[0]): the contact field phone"#),
        (["email", "phone", "E-Mail Address"], #"header[2]: "E-Mail Address" names the same field as "email" (header[0]): the contact field email"#),
        (["phone", "★"], #"header[1]: column "★" cannot be a custom field name: it has no letters or digits"#),
    ])
    func duplicateMessages(names: [String], message: String) {
        #expect(throws: ValidationError([FieldIssue(field: String(message.prefix { $0 != ":" }), message: String(message.drop { $0 != ":" }.dropFirst(2)))])) {
            try ContactImportHeader(names: names)
        }
    }

    @Test("A header without Latin letters is importable", arguments: [["phone", "名前", "firstName"], ["電話番号", "phone"]])
    func nonLatinHeader(names: [String]) throws {
        let header = try ContactImportHeader(names: names)
        let custom = header.columns.compactMap { if case .custom(let name)? = $0 { name } else { nil } }
        #expect(custom.count == 1)
        #expect(custom.allSatisfy(ContactFieldRules.isValidCustomFieldName))
    }

    @Test("The read-only columns of Herald's own export are ignored, so an export imports back")
    func exportColumns() throws {
        let header = try ContactImportHeader(names: ["contactId", "phone", "firstName", "tags", "optedOut", "optedOutAt", "isTextable", "createdAt", "updatedAt", "team", "id"])
        #expect(header.columns == [nil, .phone, .firstName, .tags, .optedOut, nil, nil, nil, nil, .custom("team"), .custom("id")])
    }

    @Test("Empty header cells are ignored columns")
    func emptyHeader() throws {
        let header = try ContactImportHeader(names: ["phone", "", "email"])
        #expect(header.columns == [.phone, nil, .email])
        #expect(header.phoneColumn == 0)
        #expect(header.column(of: .email) == 2)
    }

    @Test("Rows decode by index")
    func decodeRow() throws {
        let header = try ContactImportHeader(names: ["Mobile", "first_name", "email", "tags", "optedOut", "team", "zip"])
        let record = CSVRecord(rowNumber: 7, fields: [" (202) 555-0100 ", "Ana", "ana@example.com", "VIP; Donor|vip;;", "Yes", "blue", ""])
        let row = try header.decode(record).get()
        #expect(row.rowNumber == 7)
        #expect(row.phone == "(202) 555-0100")
        #expect(row.firstName == "Ana")
        #expect(row.email == "ana@example.com")
        #expect(row.tags == ["vip", "donor"])
        #expect(row.optedOut == true)
        #expect(row.customFields == ["team": "blue"])
        #expect(row.zip == nil)
    }

    @Test("Cells lose the export's formula escape, once, before the length limits", arguments: [
        ("'=HYPERLINK(1)", "=HYPERLINK(1)"), ("''=x", "'=x"), ("'", "'"), ("'abc", "'abc"), ("  '+1 919  ", "+1 919"),
        ("'" + "=" + String(repeating: "x", count: 99), "=" + String(repeating: "x", count: 99)),
    ])
    func formulaEscape(cell: String, value: String) throws {
        let header = try ContactImportHeader(names: ["phone", "firstName", "team", "tags"])
        let custom = "'-" + String(repeating: "y", count: 999)
        let row = try header.decode(CSVRecord(fields: ["+12025550100", cell, custom, "'=cmd;vip"])).get()
        #expect(row.firstName == value)
        #expect(row.customFields["team"] == String(custom.dropFirst()))
        #expect(row.tags == ["=cmd", "vip"])
    }

    @Test("A NUL character in any cell is that field's row error (PostgreSQL cannot store it)", arguments: [
        (["+1202555\u{0}0100", "Ana", "blue"], ["phone"]),
        (["+12025550100", "A\u{0}na", "blue"], ["firstName"]),
        (["+12025550100", "Ana", "a\u{0}b"], ["customFields.team"]),
    ])
    func nulCharacter(cells: [String], fields: [String]) throws {
        let header = try ContactImportHeader(names: ["phone", "firstName", "team"])
        switch header.decode(CSVRecord(fields: cells)) {
        case .success(let row): Issue.record("decoded \(row)")
        case .failure(let error): #expect(error.issues.map(\.field) == fields)
        }
    }

    @Test("Row errors name the JSON key", arguments: [
        (["", "x@y", "maybe"], ["email", "optedOut", "phone"]),
        (["1", "a@b.co", "no", "extra"], ["row"]),
        (["1"], ["row"]),
    ])
    func rowErrors(fields: [String], issues: [String]) throws {
        let header = try ContactImportHeader(names: ["phone", "email", "optedOut"])
        let result = header.decode(CSVRecord(rowNumber: 2, fields: fields))
        guard case .failure(let error) = result else {
            Issue.record("expected failure")
            return
        }
        #expect(error.issues.map(\.field) == issues)
    }

    @Test("Reader problems become row errors")
    func readerProblems() throws {
        let records = CSVReader.readAll(Array("phone,email\n1,a@b.co\n".utf8) + [0x31, 0x2C, 0xFF, 0x0A])
        let header = try ContactImportHeader(record: records[0])
        #expect(try header.decode(records[1]).get().email == "a@b.co")
        guard case .failure(let error) = header.decode(records[2]) else {
            Issue.record("expected failure")
            return
        }
        #expect(error.issues == [FieldIssue(field: "email", message: "is not valid UTF-8")])
    }

    @Test("Opt-out values", arguments: [
        ("true", true), ("YES", true), ("y", true), ("1", true), (" False ", false), ("no", false), ("N", false), ("0", false),
    ])
    func optOut(text: String, value: Bool) {
        #expect(ContactFieldRules.parseBoolean(text) == value)
    }

    @Test("Bad opt-out values", arguments: ["", "2", "si", "truee"])
    func badOptOut(text: String) {
        #expect(ContactFieldRules.parseBoolean(text) == nil)
    }
}
