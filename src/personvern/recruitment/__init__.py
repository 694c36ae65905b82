"""Recruitment: positions, applications, their documents and notes (R24–R27). HR only."""
