//! CSV import into the local register (`gosdom import houses|accounts|owners|meters`):
//! filled in below.
