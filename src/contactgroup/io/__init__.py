"""File formats: reference member list, tracker imports, rate tables, spreadsheets."""
