// Package validation checks desired state at the door: an apply is validated
// whole, object by object and then across objects, before anything is
// stored, and a delete is refused while other objects still refer to its
// target. Every problem is reported as a FieldError naming the object, the
// field as the user writes it in YAML, the bad value and the rule.
//
// The prefix and ASN rules are exported on their own (CheckAnnouncePrefix,
// CheckASN) because the PoP agent enforces the same rules locally.
package validation
