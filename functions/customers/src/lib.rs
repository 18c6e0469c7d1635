//! `functions/customers`: customers (unique email per store), their addresses, groups and the blacklist.

use axum::extract::Path;
use axum::http::StatusCode;
use cartwheel::customers::{
    self, Address, BlacklistIn, Customer, CustomerGroup, CustomerGroupIn, CustomerGroupPatch, CustomerIn,
    CustomerListParams, CustomerPatch, PostalAddress,
};
use cartwheel::error::ErrorBody;
use cartwheel::http::pagination::{ListOut, PageParams};
use cartwheel::http::versioning::{IfMatch, Tagged};
use cartwheel::http::{AppState, DataOut, Json, ListQuery, Query};
use cartwheel::http::{Caller, Created};
use cartwheel::tenant::can;
use cartwheel::ApiError;

cartwheel::function_routes! {
    AppState;
    (create_customer, list_customers),
    (get_customer, update_customer, delete_customer),
    (add_address, list_addresses),
    (delete_address),
    (blacklist),
    (unblacklist),
    (create_group, list_groups),
    (get_group, update_group, delete_group),
}

type Result<T> = std::result::Result<T, ApiError>;

/// Create a customer
///
/// The email is unique within the store and mode (`409 email_taken`).
#[utoipa::path(post, path = "/v1/customers", tag = "customers", security(("api_key" = ["customers:write"])), request_body = CustomerIn,
    responses(
        (status = 201, description = "The customer", body = DataOut<Customer>),
        (status = 409, description = "email_taken", body = ErrorBody),
    ))]
async fn create_customer(c: Caller<can::CustomersWrite>, Json(input): Json<CustomerIn>) -> Result<Tagged<Customer>> {
    Ok(Tagged::created(
        customers::create_customer(&c.db, &c.tenant, input).await?,
    ))
}

/// List customers
///
/// Newest first. `email` finds one customer by its exact email; `group_id` and `created_from`/`created_to`
/// narrow the list (a filtered page can hold fewer than `limit` customers while `has_more` is true).
#[utoipa::path(get, path = "/v1/customers", tag = "customers", security(("api_key" = ["customers:read"])), params(PageParams, CustomerListParams),
    responses((status = 200, description = "A page of customers", body = ListOut<Customer>)))]
async fn list_customers(
    c: Caller<can::CustomersRead>,
    ListQuery(page, params): ListQuery<CustomerListParams>,
) -> Result<axum::Json<ListOut<Customer>>> {
    let page = page.parse(&c.tenant.key_prefix())?;
    Ok(axum::Json(
        customers::list_customers(&c.db, &c.tenant, &params, &page).await?,
    ))
}

/// Get a customer
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = ["customers:read"])), params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 200, description = "The customer", body = DataOut<Customer>)))]
async fn get_customer(c: Caller<can::CustomersRead>, Path(id): Path<String>) -> Result<Tagged<Customer>> {
    Ok(Tagged::ok(customers::get_customer(&c.db, &c.tenant, &id).await?))
}

/// Update a customer
#[utoipa::path(patch, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = ["customers:write"])), request_body = CustomerPatch,
    params(("id" = String, Path, description = "`cus_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The customer", body = DataOut<Customer>),
        (status = 409, description = "email_taken", body = ErrorBody),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_customer(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<CustomerPatch>,
) -> Result<Tagged<Customer>> {
    Ok(Tagged::ok(
        customers::update_customer(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a customer
///
/// Only a customer without orders (`409` otherwise: blacklist it instead).
#[utoipa::path(delete, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = ["customers:write"])),
    params(("id" = String, Path, description = "`cus_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The customer has orders", body = ErrorBody),
    ))]
async fn delete_customer(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    customers::delete_customer(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add an address
#[utoipa::path(post, path = "/v1/customers/{id}/addresses", tag = "customers", security(("api_key" = ["customers:write"])), request_body = PostalAddress,
    params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 201, description = "The address", body = DataOut<Address>)))]
async fn add_address(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    Json(input): Json<PostalAddress>,
) -> Result<Created<Address>> {
    let address = customers::add_address(&c.db, &c.tenant, &id, input).await?;
    Ok(Created(address))
}

/// List a customer's addresses
#[utoipa::path(get, path = "/v1/customers/{id}/addresses", tag = "customers", security(("api_key" = ["customers:read"])),
    params(("id" = String, Path, description = "`cus_…`"), PageParams),
    responses((status = 200, description = "The addresses", body = ListOut<Address>)))]
async fn list_addresses(
    c: Caller<can::CustomersRead>,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<Address>>> {
    let customer = customers::get_customer(&c.db, &c.tenant, &id).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), customer.addresses)?))
}

/// Delete an address
#[utoipa::path(delete, path = "/v1/customers/{id}/addresses/{address_id}", tag = "customers", security(("api_key" = ["customers:write"])),
    params(("id" = String, Path, description = "`cus_…`"), ("address_id" = String, Path, description = "`addr_…`")),
    responses((status = 204, description = "Deleted")))]
async fn delete_address(
    c: Caller<can::CustomersWrite>,
    Path((id, address_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    customers::delete_address(&c.db, &c.tenant, &id, &address_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Blacklist a customer
///
/// A blacklisted customer's checkouts are refused with `403`.
#[utoipa::path(post, path = "/v1/customers/{id}/blacklist", tag = "customers", security(("api_key" = ["customers:write"])), request_body = BlacklistIn,
    params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 200, description = "The customer", body = DataOut<Customer>)))]
async fn blacklist(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    Json(input): Json<BlacklistIn>,
) -> Result<Tagged<Customer>> {
    Ok(Tagged::ok(
        customers::set_blacklisted(&c.db, &c.tenant, &id, Some(input.reason)).await?,
    ))
}

/// Take a customer off the blacklist
#[utoipa::path(post, path = "/v1/customers/{id}/unblacklist", tag = "customers", security(("api_key" = ["customers:write"])),
    params(("id" = String, Path, description = "`cus_…`")),
    responses((status = 200, description = "The customer", body = DataOut<Customer>)))]
async fn unblacklist(c: Caller<can::CustomersWrite>, Path(id): Path<String>) -> Result<Tagged<Customer>> {
    Ok(Tagged::ok(
        customers::set_blacklisted(&c.db, &c.tenant, &id, None).await?,
    ))
}

/// Create a customer group
#[utoipa::path(post, path = "/v1/customer-groups", tag = "customers", security(("api_key" = ["customers:write"])), request_body = CustomerGroupIn,
    responses((status = 201, description = "The group", body = DataOut<CustomerGroup>)))]
async fn create_group(
    c: Caller<can::CustomersWrite>,
    Json(input): Json<CustomerGroupIn>,
) -> Result<Created<CustomerGroup>> {
    let group = customers::create_group(&c.db, &c.tenant, input).await?;
    Ok(Created(group))
}

/// Get a customer group
#[utoipa::path(get, path = "/v1/customer-groups/{id}", tag = "customers", security(("api_key" = ["customers:read"])),
    params(("id" = String, Path, description = "`cgrp_…`")),
    responses((status = 200, description = "The group; `ETag` holds its version", body = DataOut<CustomerGroup>)))]
async fn get_group(c: Caller<can::CustomersRead>, Path(id): Path<String>) -> Result<Tagged<CustomerGroup>> {
    Ok(Tagged::ok(customers::get_group(&c.db, &c.tenant, &id).await?))
}

/// Update a customer group
///
/// Its name and description; `member_count` follows the customers' `group_ids`. Emits `customer_group.updated`.
#[utoipa::path(patch, path = "/v1/customer-groups/{id}", tag = "customers", security(("api_key" = ["customers:write"])), request_body = CustomerGroupPatch,
    params(("id" = String, Path, description = "`cgrp_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 200, description = "The group", body = DataOut<CustomerGroup>),
        (status = 412, description = "`If-Match` names an older version", body = ErrorBody),
    ))]
async fn update_group(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    Json(patch): Json<CustomerGroupPatch>,
) -> Result<Tagged<CustomerGroup>> {
    Ok(Tagged::ok(
        customers::update_group(&c.db, &c.tenant, &id, patch, if_match).await?,
    ))
}

/// Delete a customer group
///
/// Only a group no customer is in (`409 customer_group_in_use` otherwise). Emits `customer_group.deleted`.
#[utoipa::path(delete, path = "/v1/customer-groups/{id}", tag = "customers", security(("api_key" = ["customers:write"])),
    params(("id" = String, Path, description = "`cgrp_…`"),
           ("If-Match" = Option<String>, Header, description = "The `ETag` (version) you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "customer_group_in_use", body = ErrorBody),
    ))]
async fn delete_group(
    c: Caller<can::CustomersWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode> {
    customers::delete_group(&c.db, &c.tenant, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List customer groups
#[utoipa::path(get, path = "/v1/customer-groups", tag = "customers", security(("api_key" = ["customers:read"])),
    params(PageParams),
    responses((status = 200, description = "The store's groups", body = ListOut<CustomerGroup>)))]
async fn list_groups(
    c: Caller<can::CustomersRead>,
    Query(page): Query<PageParams>,
) -> Result<axum::Json<ListOut<CustomerGroup>>> {
    let groups = customers::list_groups(&c.db, &c.tenant).await?;
    Ok(axum::Json(page.page_of(&c.tenant.key_prefix(), groups)?))
}
