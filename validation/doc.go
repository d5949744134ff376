// Package validation checks desired state at the door: an apply is validated
// whole, object by object and then across objects, before anything is
// stored, and a delete is refused while other objects still refer to its
// target. Every problem is reported as a FieldError naming the object, the
// field as the user writes it in YAML, the bad value and the rule.
//
// The prefix and ASN rules and the community parsers are exported on their
// own (CheckAnnouncePrefix, CheckASN, ParseCommunity, ParseLargeCommunity)
// because the PoP agent enforces and reads them the same way locally.
package validation
