"""The demo world and sample PDFs. Imported only by the cli and the tests."""
