"""One class per BILL endpoint; every fact about the endpoint comes from bill_core.catalog."""

from __future__ import annotations

from bill_core import catalog
from tap_billcom.client import BillStream


class VendorsStream(BillStream):
    """Payees of bills (accounts payable)."""

    bill_object = catalog.get("vendors")


class CustomersStream(BillStream):
    """Payers of invoices (accounts receivable)."""

    bill_object = catalog.get("customers")


class BillsStream(BillStream):
    """Payables, with line items."""

    bill_object = catalog.get("bills")


class InvoicesStream(BillStream):
    """Receivables, with line items."""

    bill_object = catalog.get("invoices")


class PaymentsStream(BillStream):
    """Payments sent to vendors (AP)."""

    bill_object = catalog.get("payments")


class ReceivablePaymentsStream(BillStream):
    """Payments received from customers (AR)."""

    bill_object = catalog.get("receivable_payments")


class CreditMemosStream(BillStream):
    """Customer credits applicable to invoices (AR)."""

    bill_object = catalog.get("credit_memos")


class VendorCreditsStream(BillStream):
    """Vendor credits applicable to bills (AP)."""

    bill_object = catalog.get("vendor_credits")


class RecurringBillsStream(BillStream):
    """Recurring bill templates (full table: BILL documents no updatedTime filter)."""

    bill_object = catalog.get("recurring_bills")


class RecurringInvoicesStream(BillStream):
    """Recurring invoice templates (full table: no documented updatedTime filter)."""

    bill_object = catalog.get("recurring_invoices")


class ChartOfAccountsStream(BillStream):
    """General-ledger classification: chart of accountss."""

    bill_object = catalog.get("chart_of_accounts")


class AccountingClassesStream(BillStream):
    """General-ledger classification: accounting classs."""

    bill_object = catalog.get("accounting_classes")


class DepartmentsStream(BillStream):
    """General-ledger classification: departments."""

    bill_object = catalog.get("departments")


class EmployeesStream(BillStream):
    """General-ledger classification: employees."""

    bill_object = catalog.get("employees")


class ItemsStream(BillStream):
    """General-ledger classification: items."""

    bill_object = catalog.get("items")


class JobsStream(BillStream):
    """General-ledger classification: jobs."""

    bill_object = catalog.get("jobs")


class LocationsStream(BillStream):
    """General-ledger classification: locations."""

    bill_object = catalog.get("locations")


class UsersStream(BillStream):
    """Users of the organization."""

    bill_object = catalog.get("users")


class RolesStream(BillStream):
    """User role profiles (full table: no client filters roles by updatedTime)."""

    bill_object = catalog.get("roles")


class BankAccountsStream(BillStream):
    """The organization's funding bank accounts (account numbers masked)."""

    bill_object = catalog.get("bank_accounts")


class PaymentTermsStream(BillStream):
    """Payment terms (name, days due); cannot be archived."""

    bill_object = catalog.get("payment_terms")


class OrganizationStream(BillStream):
    """The signed-in organization (one record)."""

    bill_object = catalog.get("organization")


class VendorBankAccountsStream(BillStream):
    """Each vendor's bank account (one per vendor; account number masked)."""

    bill_object = catalog.get("vendor_bank_accounts")
    parent_stream_type = VendorsStream


class CustomerBankAccountsStream(BillStream):
    """Customers' bank accounts for charging (account numbers masked)."""

    bill_object = catalog.get("customer_bank_accounts")
    parent_stream_type = CustomersStream


class CustomerContactsStream(BillStream):
    """Contacts of each customer."""

    bill_object = catalog.get("customer_contacts")
    parent_stream_type = CustomersStream


class BillDocumentsStream(BillStream):
    """Metadata of documents attached to each bill (not the files)."""

    bill_object = catalog.get("bill_documents")
    parent_stream_type = BillsStream


STREAM_TYPES: tuple[type[BillStream], ...] = (
    VendorsStream,
    CustomersStream,
    BillsStream,
    InvoicesStream,
    PaymentsStream,
    ReceivablePaymentsStream,
    CreditMemosStream,
    VendorCreditsStream,
    RecurringBillsStream,
    RecurringInvoicesStream,
    ChartOfAccountsStream,
    AccountingClassesStream,
    DepartmentsStream,
    EmployeesStream,
    ItemsStream,
    JobsStream,
    LocationsStream,
    UsersStream,
    RolesStream,
    BankAccountsStream,
    PaymentTermsStream,
    OrganizationStream,
    VendorBankAccountsStream,
    CustomerBankAccountsStream,
    CustomerContactsStream,
    BillDocumentsStream,
)
