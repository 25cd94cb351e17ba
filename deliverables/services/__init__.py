"""The only code that writes deliverables tables and files (packages, reports, their settings)."""

from .packages import (
    build_delivery_package,
    build_milestone_packages,
    package_files,
    record_package_download,
)
from .reports import (
    approve_report,
    build_client_report,
    build_due_reports,
    edit_commentary,
    report_pdf_bytes,
    save_report_schedule,
    save_report_settings,
    send_report,
    skip_report,
)

__all__ = [
    "approve_report",
    "build_client_report",
    "build_delivery_package",
    "build_due_reports",
    "build_milestone_packages",
    "edit_commentary",
    "package_files",
    "record_package_download",
    "report_pdf_bytes",
    "save_report_schedule",
    "save_report_settings",
    "send_report",
    "skip_report",
]
