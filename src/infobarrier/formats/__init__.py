"""Pure import/export formats: Entra ID CSV and PowerShell (design, "Names people will type")."""
