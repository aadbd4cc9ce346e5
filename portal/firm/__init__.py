"""Accounting firms: client files, the wizard, imports, folder trees and documents, apps, client space."""
