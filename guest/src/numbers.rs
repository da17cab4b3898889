//! Phone numbers and ITU-T E.164 country calling codes (rule F5). NOT YET IMPLEMENTED: issue 5.
